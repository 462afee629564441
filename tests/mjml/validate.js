#!/usr/bin/env node
// Validates MJML with the reference implementation in strict mode.
//
// mjml-python (MRML), which the newsletter uses to compile, does not validate:
// unknown tags and tags in the wrong parent compile silently. This script is
// the check that the rendered templates are valid MJML 4.
//
// Usage: node validate.js [FILE.mjml ...]   (reads stdin when no file is given)
// Prints "ok" and exits 0, or prints each error and exits 1.
'use strict';

const fs = require('fs');
const path = require('path');
const mjml2html = require('mjml');

// mjml 4 is synchronous and throws in strict mode; mjml 5 returns a Promise.
async function errorsOf(src, filePath) {
  try {
    const result = await mjml2html(src, {
      validationLevel: 'strict',
      filePath: filePath || process.cwd(),
    });
    return (result && result.errors) || [];
  } catch (err) {
    if (err && Array.isArray(err.errors)) return err.errors;
    throw err; // a crash, not a validation error
  }
}

async function main(args) {
  const inputs = args.length
    ? args.map((file) => ({ name: file, src: fs.readFileSync(file, 'utf8') }))
    : [{ name: '<stdin>', src: fs.readFileSync(0, 'utf8') }];

  let failed = false;
  for (const { name, src } of inputs) {
    const filePath = name === '<stdin>' ? undefined : path.resolve(name);
    const errors = await errorsOf(src, filePath);
    for (const e of errors) {
      failed = true;
      console.error(`${name}:${e.line}: <${e.tagName}> ${e.message}`);
    }
  }
  if (failed) return 1;
  console.log('ok');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err && err.stack ? err.stack : String(err));
    process.exit(2);
  },
);
