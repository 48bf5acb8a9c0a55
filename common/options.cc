#include "common/options.h"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <typeinfo>
#include <utility>

#include "common/log.h"

namespace hafs {
namespace {

bool IsUnsigned(const std::type_info& type) {
  return type == typeid(unsigned char) || type == typeid(unsigned short) || type == typeid(unsigned int) ||
         type == typeid(unsigned long) || type == typeid(unsigned long long);
}

// Stores `parsed`, refusing a negative number for an unsigned option: Boost would turn
// "-1" into a huge count instead of an error.
void StoreChecked(const po::parsed_options& parsed, po::variables_map& values) {
  po::store(parsed, values);
  for (const po::option& option : parsed.options) {
    if (!values.count(option.string_key) || !IsUnsigned(values[option.string_key].value().type())) continue;
    for (const std::string& token : option.value) {
      if (token.starts_with('-')) {
        po::validation_error error(po::validation_error::invalid_option_value, option.string_key, token);
        error.set_substitute("value", token);
        throw error;
      }
    }
  }
}

}  // namespace

po::variables_map ParseOptionsOrExit(int argc, char** argv, po::options_description options, const std::string& usage) {
  return ParseOptionsOrExit(argc, argv, std::move(options), po::positional_options_description(), usage);
}

po::variables_map ParseOptionsOrExit(int argc, char** argv, po::options_description options,
                                     const po::positional_options_description& positional, const std::string& usage) {
  // clang-format off
  options.add_options()
      ("help,h", "print this help and exit")
      ("config", po::value<std::string>(), "read options from this file (name = value per line)")
      ("log-level", po::value<std::string>()->default_value("info"), "debug, info, warning or error");
  // clang-format on
  po::variables_map values;
  try {
    StoreChecked(po::command_line_parser(argc, argv).options(options).positional(positional).run(), values);
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
        StoreChecked(po::parse_config_file(file, options), values);
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
