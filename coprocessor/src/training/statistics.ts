// Moved to the protocol package (browser-safe, shared with the web app); kept here so imports stay short.
export * from "@ciphershare/protocol/training/statistics";
