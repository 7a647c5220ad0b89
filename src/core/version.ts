/** The tool's version (package.json's, put in by esbuild.mjs's `define`), written into the codes files it makes. */
declare const POLYTOPE_LENS_VERSION: string;
export const TOOL_VERSION: string = POLYTOPE_LENS_VERSION;
