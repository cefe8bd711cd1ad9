// The class of every error twindoc throws. The WebAssembly glue imports it (`./twin_error.js`
// beside it) to build each error, and the package's entry points export it, so that
// `error instanceof TwinError` holds. scripts/build.mjs copies it into pkg-web/ as it is, and
// into pkg/ as CommonJS.
export class TwinError extends Error {
  /** `fields`: the engine's error as the CLI prints it (its code, status, errorCode and path). */
  constructor(message, fields) {
    super(message);
    this.name = "TwinError";
    this.code = fields.code;
    this.status = fields.status;
    this.errorCode = fields.errorCode;
    this.path = fields.path;
  }
}
