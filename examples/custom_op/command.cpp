// A copy of the symgraph command with softplus built in: the command is a
// library function, and softplus.cpp (linked into this program) registers
// the op and its pass before main runs.
#include <symgraph/tools/cli.hpp>

int main(int argc, char** argv) { return symgraph::cli_main(argc, argv); }
