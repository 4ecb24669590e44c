#include "exporter/exporter.h"

int main(int argc, char** argv) {
  return thinpool::run_exporter(argc, argv);
}
