#!/usr/bin/env bash
set -u
echo "bench: no benchmarks yet"
