import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';

/** Debian's Chromium, driven by playwright-core (see README "Tests"). */
export const CHROMIUM = process.env.SHOEBOX_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve('test-artifacts');

/** Why the browser suites can't run here, or undefined; under CI=true a missing Chromium is an error, not a skip. */
export function chromiumSkipReason(): string | undefined {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return undefined;
  } catch {
    const reason = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set SHOEBOX_CHROMIUM)`;
    if (process.env.CI === 'true') throw new Error(`CI needs Chromium: ${reason}`);
    return reason;
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Builds the uploader's browser bundle from the current sources, so the suite never tests a stale one. */
export async function buildUploaderBundle(): Promise<void> {
  await promisify(execFile)(process.execPath, [path.resolve('node_modules/vite/bin/vite.js'), 'build', '-c', 'client/vite.config.ts'], {
    cwd: path.resolve('.'),
  });
}

/** Signs in through the login form, as a person would. */
export async function signIn(page: Page, baseUrl: string, username: string, password = 'password123'): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.fill('input[name="login"]', username);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForURL(new RegExp(`/${username}\\?notice=signed-in$`)), page.click('main form button[type="submit"]')]);
}

export interface DroppedFile {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

/**
 * Drops files on an element the way a browser does for a drag from the desktop: dragenter,
 * dragover and drop events carrying a DataTransfer with the files.
 */
export async function dropFiles(page: Page, selector: string, files: DroppedFile[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, mimeType: f.mimeType, data: f.buffer.toString('base64') }));
  await page.evaluate(
    ({ selector, payload }) => {
      const transfer = new DataTransfer();
      for (const f of payload) {
        const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], f.name, { type: f.mimeType }));
      }
      const target = document.querySelector(selector);
      if (!target) throw new Error(`nothing to drop on at ${selector}`);
      for (const type of ['dragenter', 'dragover', 'drop']) {
        target.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
      }
    },
    { selector, payload },
  );
}

/** Pastes files as the clipboard would (Ctrl+V with an image copied): a paste event whose clipboardData holds them. */
export async function pasteFiles(page: Page, files: DroppedFile[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, mimeType: f.mimeType, data: f.buffer.toString('base64') }));
  await page.evaluate((payload) => {
    const transfer = new DataTransfer();
    for (const f of payload) {
      const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
      transfer.items.add(new File([bytes], f.name, { type: f.mimeType }));
    }
    (document.activeElement ?? document.body).dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
  }, payload);
}

/**
 * Runs `run` on a new page of `context` and fails if the page threw or the browser refused
 * something under the Content-Security-Policy; closes the context either way.
 */
export async function runWatchingForProblems(context: BrowserContext, run: (page: Page, context: BrowserContext) => Promise<void>): Promise<void> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // A Content-Security-Policy refusal is a bug (failed requests and Uppy's error log are expected in the error cases).
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  try {
    await run(page, context);
    expect(problems).toEqual([]);
  } finally {
    await context.close();
  }
}
