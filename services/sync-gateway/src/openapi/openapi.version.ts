/** The API version stated in the documents; the package's version. */
export const AGENT_VERSION_FOR_DOCS = '0.1.0';
