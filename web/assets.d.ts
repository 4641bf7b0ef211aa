/** esbuild's binary loader turns these files into Uint8Array default exports. */
declare module '*.cose' {
  const bytes: Uint8Array;
  export default bytes;
}
