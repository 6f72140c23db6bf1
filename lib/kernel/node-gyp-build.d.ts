declare module 'node-gyp-build' {
  /** Loads the prebuilt or locally built addon found under `dir`. */
  function load(dir: string): unknown;
  export = load;
}
