#!/usr/bin/env -S node --initial-old-space-size=128
// The `shoebox` command (npx shoebox ...): runs the compiled CLI that `npm install` builds.
import "../dist/cli/main.js";
