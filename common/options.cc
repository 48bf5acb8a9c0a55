#include "common/options.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <utility>

#include "common/log.h"

namespace hafs {

po::variables_map ParseOptionsOrExit(int argc, char** argv, po::options_description options, const std::string& usage) {
  return ParseOptionsOrExit(argc, argv, std::move(options), po::positional_options_description(), usage);
}

po::variables_map ParseOptionsOrExit(int argc, char** argv, po::options_description options,
                                     const po::positional_options_description& positional, const std::string& usage) {
  options.add_options()
      ("help,h", "print this help and exit")
      ("config", po::value<std::string>(), "read options from this file (name = value per line)")
      ("log-level", po::value<std::string>()->default_value("info"), "debug, info, warning or error");
  po::variables_map values;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(), values);
    if (values.count("help")) {
      std::cout << usage << "\n\n" << options << "\n";
      std::exit(0);
    }
    if (values.count("config")) {
      std::string path = values["config"].as<std::string>();
      std::ifstream file(path);
      if (!file) {
        std::cerr << argv[0] << ": cannot read config file " << path << "\n";
        std::exit(2);
      }
      try {
        po::store(po::parse_config_file(file, options), values);
      } catch (const po::error& error) {
        // Boost names the key and the reason; the file is ours to name.
        std::cerr << argv[0] << ": config file " << path << ": " << error.what() << "\n";
        std::exit(2);
      }
    }
    po::notify(values);
  } catch (const po::error& error) {
    std::cerr << argv[0] << ": " << error.what() << "\n(see " << argv[0] << " --help)\n";
    std::exit(2);
  }
  LogLevel level;
  if (!ParseLogLevel(values["log-level"].as<std::string>(), &level)) {
    std::cerr << argv[0] << ": unknown --log-level " << values["log-level"].as<std::string>() << "\n";
    std::exit(2);
  }
  SetLogLevel(level);
  return values;
}

}  // namespace hafs
