/* Embeds the runtime bundle (path from ENVOY_TS_RUNTIME_JS) as a NUL-terminated string. */
    .section .rodata
    .global envoy_ts_embedded_runtime_js
    .hidden envoy_ts_embedded_runtime_js
    .type envoy_ts_embedded_runtime_js, @object
envoy_ts_embedded_runtime_js:
    .incbin ENVOY_TS_RUNTIME_JS
    .byte 0
    .size envoy_ts_embedded_runtime_js, . - envoy_ts_embedded_runtime_js
    .section .note.GNU-stack,"",@progbits
