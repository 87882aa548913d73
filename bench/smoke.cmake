# Runs one benchmark program in its smoke mode and checks that the report tool reads what
# it printed. cmake -DPROGRAM=... -DARGS=... -DREPORT=... -DOUT=... -P smoke.cmake
get_filename_component(out_dir ${OUT} DIRECTORY)
file(MAKE_DIRECTORY ${out_dir})
execute_process(COMMAND ${PROGRAM} ${ARGS}
  OUTPUT_FILE ${OUT} ERROR_VARIABLE errors RESULT_VARIABLE status TIMEOUT 100)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} ${ARGS} failed (${status}):\n${errors}")
endif()
get_filename_component(program ${PROGRAM} NAME)
execute_process(COMMAND ${REPORT} ${program}=${OUT}
  OUTPUT_VARIABLE table ERROR_VARIABLE errors RESULT_VARIABLE status TIMEOUT 20)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "the report tool could not read ${OUT} (${status}):\n${errors}")
endif()
message("${table}")
