// Second translation unit including the header (see header_check_a.cpp).
#include <honeyhive/honeyhive.hpp>

int use_header_from_b() {
  const honeyhive::Json j = honeyhive::Json::array({1, "two", 3.0});
  return static_cast<int>(j.str().size());
}
