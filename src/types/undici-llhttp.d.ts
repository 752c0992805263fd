// undici ships llhttp compiled to WebAssembly as CommonJS modules whose export is the wasm binary.
declare module 'undici/lib/llhttp/llhttp_simd-wasm.js' {
  const wasm: Uint8Array
  export default wasm
}
declare module 'undici/lib/llhttp/llhttp-wasm.js' {
  const wasm: Uint8Array
  export default wasm
}
