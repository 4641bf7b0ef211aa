/** The package version, reported by the CLI, the service and EAR verifier ids. */
export const VERSION = '0.1.0';
