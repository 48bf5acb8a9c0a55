#include "cli/json_output.h"

#include <cmath>

namespace hafs::cli {

std::string JsonText(const Json& json) {
  return json.dump(/*indent=*/-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::replace) + "\n";
}

double Rounded(double value, int decimals) {
  double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

}  // namespace hafs::cli
