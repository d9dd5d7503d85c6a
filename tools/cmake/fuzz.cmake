# -DVKFLOW_FUZZ=ON (configure with clang-14): libFuzzer + ASan + UBSan targets for everything that parses
# outside input. They link only CPU pieces (vkflow_fuzz_core below), so no Vulkan device, shader build or
# model code is needed; `cmake --build <dir> --target vkflow_fuzz` builds just them.
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "VKFLOW_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14")
endif()
set(VKFLOW_FUZZ_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1)

set(VKFLOW_FUZZ_CORE
  engine/io/json_limits.cpp engine/io/mapped_file.cpp engine/io/png.cpp engine/io/png_text.cpp
  engine/io/safe_path.cpp engine/io/safetensors.cpp
  engine/text/bpe.cpp engine/text/clip_tokenizer.cpp engine/text/clip_vocab_lookup.cpp
  engine/text/html_unescape.cpp engine/text/pretokenize.cpp engine/text/prompt_weights.cpp engine/text/unicode.cpp
  engine/text/unicode_tables.cpp engine/text/vocab_loader.cpp
  engine/graph/graph.cpp engine/graph/workflow.cpp engine/graph/validate.cpp engine/graph/literals.cpp
  engine/graph/schema.cpp engine/graph/registry.cpp engine/graph/order.cpp engine/graph/value.cpp
  engine/graph/file_inputs.cpp engine/models/model_paths.cpp
  server/http_util.cpp server/request_check.cpp server/safe_path.cpp)
list(TRANSFORM VKFLOW_FUZZ_CORE PREPEND ${CMAKE_SOURCE_DIR}/)
add_library(vkflow_fuzz_core STATIC ${VKFLOW_FUZZ_CORE})
target_include_directories(vkflow_fuzz_core PUBLIC ${CMAKE_SOURCE_DIR})
target_compile_definitions(vkflow_fuzz_core PUBLIC VKFLOW_SOURCE_DIR="${CMAKE_SOURCE_DIR}")  # fuzz_tokenizer: the bundled vocabulary
target_compile_options(vkflow_fuzz_core PUBLIC ${VKFLOW_FUZZ_FLAGS} PRIVATE -fsanitize=fuzzer-no-link
  -Wno-missing-braces -Wno-unused-private-field)  # clang-only warnings GCC (the main build) does not raise
target_link_options(vkflow_fuzz_core PUBLIC -fsanitize=address,undefined)
target_link_libraries(vkflow_fuzz_core PUBLIC nlohmann_json::nlohmann_json ZLIB::ZLIB Threads::Threads stb)
set_target_properties(vkflow_fuzz_core PROPERTIES EXCLUDE_FROM_ALL ON)

add_custom_target(vkflow_fuzz)
file(GLOB VKFLOW_FUZZ_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.cpp)
foreach(src ${VKFLOW_FUZZ_SOURCES})
  get_filename_component(name ${src} NAME_WE)
  add_executable(${name} EXCLUDE_FROM_ALL ${src})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  target_link_libraries(${name} PRIVATE vkflow_fuzz_core)
  add_dependencies(vkflow_fuzz ${name})
endforeach()
