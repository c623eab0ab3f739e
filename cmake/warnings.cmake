# Warnings are set once, per target, through this function.
function(smcl_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow)
  if(SMCL_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
