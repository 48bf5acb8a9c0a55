// Command-line flags and config files for every hafs binary (Boost.Program_options).
// A config file holds the same options as the flags, one "name = value" per line;
// flags given on the command line win over the file.
#pragma once

#include <boost/program_options.hpp>
#include <string>

namespace hafs {

namespace po = boost::program_options;

// Adds --help, --config and --log-level to `options`, parses argv and the config file,
// applies the log level. Prints help and exits(0) on --help; prints the problem and
// exits(2) on a bad flag, a bad value or an unreadable config file.
po::variables_map ParseOptionsOrExit(int argc, char** argv, po::options_description options, const std::string& usage);

// The same, with positional arguments (e.g. the CLI's command and path) mapped to
// options by `positional`.
po::variables_map ParseOptionsOrExit(int argc, char** argv, po::options_description options,
                                     const po::positional_options_description& positional, const std::string& usage);

}  // namespace hafs
