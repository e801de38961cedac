"""Tools of the project, not tests: the breaking-change and release checks, publishing, recording, benchmarks."""
