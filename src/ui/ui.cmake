# ui.cmake - included by the top CMakeLists.txt after crier_lib: the web UI's files (ui/) are
# embedded into the library as one generated C file (embed.cmake), rebuilt when one changes.
file(GLOB_RECURSE CRIER_UI_FILES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/ui/*)
set(CRIER_UI_C ${CMAKE_BINARY_DIR}/generated/ui_assets.c)
add_custom_command(OUTPUT ${CRIER_UI_C}
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR}/ui -DOUT=${CRIER_UI_C}
          -P ${CMAKE_CURRENT_LIST_DIR}/embed.cmake
  DEPENDS ${CRIER_UI_FILES} ${CMAKE_CURRENT_LIST_DIR}/embed.cmake
  COMMENT "Embedding the web UI (ui/)" VERBATIM)
target_sources(crier_lib PRIVATE ${CRIER_UI_C})
