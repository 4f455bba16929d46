# Defines the imported targets of libhoneyhive, given where its pieces are. Shared by the
# build-tree package (honeyhiveConfig.cmake beside this file) and the installed-prefix package
# (`make install`: <prefix>/lib/cmake/honeyhive/, from packaging/cmake/honeyhiveConfig.cmake.in,
# with a copy of this file), which only compute other paths and call honeyhive_define_targets().
#
# Targets:
#   honeyhive::c          the C library (IMPORTED SHARED or STATIC) + include/honeyhive.h
#   honeyhive::honeyhive  INTERFACE: honeyhive::c + the C++17 header honeyhive/honeyhive.hpp
include_guard(GLOBAL)

# honeyhive_define_targets(C_INCLUDE_DIR <dir> CXX_INCLUDE_DIR <dir> LIBRARY <file> [SONAME <name>])
# LIBRARY is the shared library (.so) or the static one (.a). SONAME is the shared library's
# DT_SONAME (libhoneyhive.so.0, set by build.rs); without it the library is taken to have none.
# On a missing file it sets honeyhive_FOUND to FALSE and honeyhive_NOT_FOUND_MESSAGE in the
# calling scope (the package config), so find_package() reports it.
function(honeyhive_define_targets)
  cmake_parse_arguments(HH "" "C_INCLUDE_DIR;CXX_INCLUDE_DIR;LIBRARY;SONAME" "" ${ARGN})
  if(TARGET honeyhive::honeyhive)
    return()
  endif()
  foreach(_hh_needed "${HH_C_INCLUDE_DIR}/honeyhive.h"
                     "${HH_CXX_INCLUDE_DIR}/honeyhive/honeyhive.hpp"
                     "${HH_LIBRARY}")
    if(NOT EXISTS "${_hh_needed}")
      set(honeyhive_FOUND FALSE PARENT_SCOPE)
      set(honeyhive_NOT_FOUND_MESSAGE
          "honeyhive: ${_hh_needed} does not exist (build it with `cargo build --release --lib -p honeyhive`, or set HONEYHIVE_LIBRARY)"
          PARENT_SCOPE)
      return()
    endif()
  endforeach()

  if(HH_LIBRARY MATCHES "\\.a$")
    add_library(honeyhive::c STATIC IMPORTED)
    # What a Rust staticlib needs from the system (rustc --print native-static-libs:
    # -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc).
    find_package(Threads REQUIRED)
    set_property(TARGET honeyhive::c PROPERTY INTERFACE_LINK_LIBRARIES
                 Threads::Threads ${CMAKE_DL_LIBS} m rt util gcc_s)
  else()
    add_library(honeyhive::c SHARED IMPORTED)
    if(HH_SONAME)
      # build.rs gives libhoneyhive.so a SONAME: CMake links the file by path and executables
      # record DT_NEEDED libhoneyhive.so.0, found through their RPATH (CMake adds the
      # library's directory to the build-tree RPATH; target/release/libhoneyhive.so.0 is a
      # symlink made by build.rs) or LD_LIBRARY_PATH or the system's library path.
      set_property(TARGET honeyhive::c PROPERTY IMPORTED_SONAME "${HH_SONAME}")
    else()
      # A library without a SONAME: linking it by path would record that absolute path in
      # DT_NEEDED; with IMPORTED_NO_SONAME CMake links -L<dir> -lhoneyhive instead.
      set_property(TARGET honeyhive::c PROPERTY IMPORTED_NO_SONAME TRUE)
    endif()
  endif()
  set_target_properties(honeyhive::c PROPERTIES
    IMPORTED_LOCATION "${HH_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${HH_C_INCLUDE_DIR}")

  add_library(honeyhive::honeyhive INTERFACE IMPORTED)
  set_target_properties(honeyhive::honeyhive PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${HH_CXX_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES honeyhive::c
    INTERFACE_COMPILE_FEATURES cxx_std_17)
endfunction()
