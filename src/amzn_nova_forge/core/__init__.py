"""Core layer: enums, storage and the AWS client factory. Imports nothing else of the SDK."""
