import { SMTPServer } from 'smtp-server';
import { readMail, type ReadMail } from './mime.js';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** The message as a mail client reads it (quoted-printable and base64 decoded). */
  mail: ReadMail;
  /** Which user signed in with AUTH, if any. */
  authUser: string | null;
}

export interface TestSmtpServer {
  /** smtp://user:pass@127.0.0.1:PORT, as SHOEBOX_SMTP_URL takes it. */
  url: string;
  received: ReceivedMail[];
  /** Resolves with the next message sent to `to` (or already received and not yet taken). */
  nextMessageTo(to: string, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

/**
 * A real SMTP server on loopback (the `smtp-server` package) that keeps what it receives. It
 * wants AUTH with the user and password of its URL, as a real relay would.
 */
export async function startTestSmtpServer(): Promise<TestSmtpServer> {
  const received: ReceivedMail[] = [];
  const waiters: { to: string; resolve: (mail: ReceivedMail) => void }[] = [];
  const taken = new Set<ReceivedMail>();
  const take = (to: string): ReceivedMail | undefined => {
    const mail = received.find((m) => !taken.has(m) && m.to.includes(to.toLowerCase()));
    if (mail) taken.add(mail);
    return mail;
  };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'mailuser' && auth.password === 'mail pass') return callback(null, { user: auth.username });
      return callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        try {
          const mail: ReceivedMail = {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            raw,
            mail: readMail(raw),
            authUser: (session.user as string | undefined) ?? null,
          };
          received.push(mail);
          for (const waiter of [...waiters]) {
            if (mail.to.includes(waiter.to) && !taken.has(mail)) {
              taken.add(mail);
              waiters.splice(waiters.indexOf(waiter), 1);
              waiter.resolve(mail);
            }
          }
          callback();
        } catch (error) {
          callback(error as Error);
        }
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://mailuser:${encodeURIComponent('mail pass')}@127.0.0.1:${port}`,
    received,
    nextMessageTo(to, timeoutMs = 10_000) {
      const ready = take(to);
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const waiter = { to: to.toLowerCase(), resolve: (mail: ReceivedMail) => { clearTimeout(timer); resolve(mail); } };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no email to ${to} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
