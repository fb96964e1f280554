// The symgraph command with this project's op linked in.
#include <symgraph/tools/cli.hpp>

int main(int argc, char** argv) { return symgraph::cli_main(argc, argv); }
