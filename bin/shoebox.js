#!/usr/bin/env node
// The `shoebox` command (npx shoebox ...): runs the compiled CLI that `npm install` builds.
import "../dist/cli/main.js";
