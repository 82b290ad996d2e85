// `.wgsl` files import as their source text (see src/cli/wgsl-hook.mjs).
declare module '*.wgsl' {
  const source: string;
  export default source;
}
