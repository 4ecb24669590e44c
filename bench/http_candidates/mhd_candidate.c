/* mhd_candidate: a /metrics server on libmicrohttpd (Debian 12's libmicrohttpd-dev 0.9.75), one
 * of the candidates for the exporter's HTTP layer, measured against the civetweb server with
 * bench/http_crowd.py (see README.md next to this file). It serves a fixed body read from a file
 * at start: the point is the HTTP layer, not the collectors.
 *
 * Build (standalone, not part of the project's CMake build):
 *   cc -O2 -Wall -Wextra -o mhd_candidate bench/http_candidates/mhd_candidate.c -lmicrohttpd
 * Run:
 *   mhd_candidate BODY_FILE PORT [THREADS [CONNECTION_LIMIT [TIMEOUT_S [PER_IP_LIMIT]]]]
 *
 * Defaults, and why:
 *   - epoll, on an internal thread pool (MHD_USE_EPOLL_INTERNAL_THREAD +
 * MHD_OPTION_THREAD_POOL_SIZE) of THREADS = 4 threads. Each thread multiplexes its share of the
 * connections with epoll, so the pool bounds CPU parallelism, not the connections served
 * (civetweb's --web.max-requests workers, 40 by default, each hold one connection).
 *   - CONNECTION_LIMIT = 100, the exporter's default --web.max-connections; libmicrohttpd divides
 *     it among the pool's threads. At the limit a thread takes its listening socket out of its
 *     epoll set, so newcomers wait in the kernel's listen backlog (nothing is evicted).
 *   - TIMEOUT_S = 10 s of inactivity per connection (MHD_OPTION_CONNECTION_TIMEOUT); the
 *     exporter's --web.request-timeout is 30 s by default.
 *   - PER_IP_LIMIT = 0 (none); above it libmicrohttpd accepts and closes at once.
 *   - listens on 127.0.0.1 only; the per-connection memory pool is libmicrohttpd's default (32
 * KiB). GET or HEAD /metrics answers 200 with the body (text/plain; version=0.0.4), anything else
 * 404. Stops on SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct MHD_Response* metrics;
static struct MHD_Response* not_found;

static enum MHD_Result answer(void* cls, struct MHD_Connection* connection, const char* url,
                              const char* method, const char* version, const char* upload_data,
                              size_t* upload_data_size, void** req_cls) {
  (void)cls, (void)version, (void)upload_data, (void)req_cls;
  if (*upload_data_size != 0) {
    *upload_data_size = 0; /* a body nobody asked for: drop it */
    return MHD_YES;
  }
  int known = strcmp(url, "/metrics") == 0 &&
              (strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, "HEAD") == 0);
  return MHD_queue_response(connection, known ? MHD_HTTP_OK : MHD_HTTP_NOT_FOUND,
                            known ? metrics : not_found);
}

static char* read_file(const char* path, size_t* size) {
  FILE* file = fopen(path, "rb");
  if (file == NULL || fseek(file, 0, SEEK_END) != 0) {
    return NULL;
  }
  long length = ftell(file);
  char* data = length >= 0 ? malloc((size_t)length + 1) : NULL;
  if (data == NULL || fseek(file, 0, SEEK_SET) != 0 ||
      fread(data, 1, (size_t)length, file) != (size_t)length) {
    fclose(file);
    free(data);
    return NULL;
  }
  fclose(file);
  *size = (size_t)length;
  return data;
}

static unsigned argument(int argc, char** argv, int i, unsigned fallback) {
  return argc > i ? (unsigned)strtoul(argv[i], NULL, 10) : fallback;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr,
            "usage: %s BODY_FILE PORT [THREADS [CONNECTION_LIMIT [TIMEOUT_S [PER_IP_LIMIT]]]]\n",
            argv[0]);
    return 2;
  }
  size_t size = 0;
  char* body = read_file(argv[1], &size);
  if (body == NULL) {
    perror(argv[1]);
    return 1;
  }
  unsigned port = argument(argc, argv, 2, 0), threads = argument(argc, argv, 3, 4);
  unsigned limit = argument(argc, argv, 4, 100), timeout = argument(argc, argv, 5, 10);
  unsigned per_ip = argument(argc, argv, 6, 0);

  metrics = MHD_create_response_from_buffer(size, body, MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header(metrics, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4");
  static char missing[] = "Not Found\n";
  not_found = MHD_create_response_from_buffer(strlen(missing), missing, MHD_RESPMEM_PERSISTENT);

  /* Signals are blocked before the daemon's threads start, so that they inherit the mask and
   * sigwait() below receives SIGTERM/SIGINT. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);

  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct MHD_Daemon* daemon = MHD_start_daemon(
      MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL, answer, NULL,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr*)&address, MHD_OPTION_THREAD_POOL_SIZE, threads,
      MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_TIMEOUT, timeout,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, MHD_OPTION_END);
  if (daemon == NULL) {
    fprintf(stderr, "cannot start libmicrohttpd on 127.0.0.1:%u\n", port);
    return 1;
  }
  fprintf(stderr,
          "serving %zu bytes on 127.0.0.1:%u: %u threads, %u connections, %u s, %u per IP\n", size,
          port, threads, limit, timeout, per_ip);
  int signal_number = 0;
  sigwait(&stop, &signal_number);
  MHD_stop_daemon(daemon);
  MHD_destroy_response(metrics);
  MHD_destroy_response(not_found);
  free(body);
  return 0;
}
