// `.wgsl` files import as their source text (see src/cli/wgsl-hook.mjs).
declare module '*.wgsl' {
  const source: string;
  export default source;
}

// `.wat` files (WebAssembly text, assembled at load time by src/backend/wasm/module.ts) likewise.
declare module '*.wat' {
  const source: string;
  export default source;
}
