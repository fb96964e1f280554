#pragma once
/// The symgraph command (docs/cli.md) as a function, so that a program of
/// the user's own, with extension ops linked in, is the command with those
/// ops (docs/adding-an-op.md). CMake target symgraph::cli.
///
///   int main(int argc, char** argv) { return symgraph::cli_main(argc, argv); }

namespace symgraph {

/// Runs the command on `argv` (argv[0] is the program): results on standard
/// output, errors as one line on standard error. Returns the exit status: 0,
/// or 1 on bad input.
int cli_main(int argc, char** argv);

}  // namespace symgraph
