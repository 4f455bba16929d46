# Build-tree package of the libhoneyhive C++ binding:
#   cmake -Dhoneyhive_DIR=<repo>/bindings/cpp/cmake ...   then   find_package(honeyhive CONFIG)
#   target_link_libraries(app PRIVATE honeyhive::honeyhive)
#
# Paths are relative to this file, so the checkout can live anywhere. The library defaults to
# <repo>/target/release/libhoneyhive.so; set the cache variable HONEYHIVE_LIBRARY to use
# another build (e.g. target/debug, or libhoneyhive.a to link statically).
get_filename_component(_honeyhive_cpp_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
get_filename_component(_honeyhive_repo "${_honeyhive_cpp_root}/../.." ABSOLUTE)

set(HONEYHIVE_LIBRARY "${_honeyhive_repo}/target/release/libhoneyhive.so"
    CACHE FILEPATH "libhoneyhive to link: the shared .so (default) or the static .a")

include("${CMAKE_CURRENT_LIST_DIR}/honeyhiveTargets.cmake")
set(honeyhive_FOUND TRUE)
honeyhive_define_targets(
  C_INCLUDE_DIR "${_honeyhive_repo}/include"
  CXX_INCLUDE_DIR "${_honeyhive_cpp_root}/include"
  LIBRARY "${HONEYHIVE_LIBRARY}"
  SONAME "libhoneyhive.so.0")

if(honeyhive_FOUND)
  set(HONEYHIVE_INCLUDE_DIRS "${_honeyhive_repo}/include" "${_honeyhive_cpp_root}/include")
endif()
unset(_honeyhive_cpp_root)
unset(_honeyhive_repo)
