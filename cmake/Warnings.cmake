# wharf_defaults(target): the per-target compile options every Wharf
# target uses (style guide §10). No global flags.
function(wharf_defaults tgt)
    target_compile_definitions(${tgt} PRIVATE
        _POSIX_C_SOURCE=200809L _DEFAULT_SOURCE
        WHARF_VERSION="${PROJECT_VERSION}")
    target_compile_options(${tgt} PRIVATE
        -Wall -Wextra -Wshadow -Wstrict-prototypes -Wformat=2
        -Wnull-dereference -Wno-unused-parameter -Wno-format-zero-length -fno-omit-frame-pointer -g)
    if(WERROR)
        target_compile_options(${tgt} PRIVATE -Werror)
    endif()
    if(SANITIZE)
        target_compile_options(${tgt} PRIVATE
            -fsanitize=${SANITIZE} -fno-sanitize-recover=all)
        target_link_options(${tgt} PRIVATE -fsanitize=${SANITIZE})
    endif()
endfunction()
