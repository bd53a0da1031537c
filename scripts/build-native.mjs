#!/usr/bin/env node
// Placeholder until native/ has a binding.gyp: nothing to build.
import { existsSync } from "node:fs";
if (!existsSync(new URL("../native/binding.gyp", import.meta.url))) process.exit(0);
