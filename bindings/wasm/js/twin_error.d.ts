/** What every function throws: code is the stable kind name (e.g. "InvalidKey"), status and
 * errorCode IoT Hub's HTTP status and error code, path the JSON Pointer of the offending member. */
export declare class TwinError extends Error {
  private constructor();
  name: "TwinError";
  code: string;
  status: number;
  errorCode: number;
  path: string;
}
