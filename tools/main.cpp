// The symgraph program: the command of tools/symgraph.cpp. It exports the
// library's symbols, so extensions loaded with --load use this program's
// copy of the library (tools/CMakeLists.txt).
#include "symgraph/tools/cli.hpp"

int main(int argc, char** argv) { return symgraph::cli_main(argc, argv); }
