# yubin_core_library(NAME SOURCES... [DEPS targets...])
# One static library per core component, named yubin_<NAME>, with the
# repository root on its include path so headers are included as
# "core/<component>/<file>.hpp". Every core library is recorded in the global
# property YUBIN_CORE_LIBS so the unit-test binary links them all.
function(yubin_core_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(yubin_${name} STATIC ${ARG_SOURCES})
  target_include_directories(yubin_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(yubin_${name} PUBLIC ${ARG_DEPS})
  set_property(GLOBAL APPEND PROPERTY YUBIN_CORE_LIBS yubin_${name})
endfunction()

# yubin_part_library(NAME SOURCES... [DEPS targets...]): the logic of one part
# (milter, policyd, ctl, ...), linked into its binary and into the unit tests.
function(yubin_part_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(yubin_${name} STATIC ${ARG_SOURCES})
  target_include_directories(yubin_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(yubin_${name} PUBLIC ${ARG_DEPS})
  set_property(GLOBAL APPEND PROPERTY YUBIN_PART_LIBS yubin_${name})
endfunction()
