// The whole program but for main(): parse flags, set up logging, choose the device-mapper
// backend, register the collectors and serve until SIGINT or SIGTERM.
#pragma once

namespace thinpool {

// Returns the process exit code: 0 after a clean shutdown or --help/--version, 1 when the
// server cannot start (e.g. the port is in use), 2 for bad flags.
int run_exporter(int argc, const char* const* argv);

}  // namespace thinpool
