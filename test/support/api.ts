/** Small helpers to call the upload API over real HTTP with fetch/FormData, as a client would. */
export interface ApiResponse {
  status: number;
  /** Parsed JSON, or null for txt answers and redirects. */
  body: any;
  text: string;
  headers: Headers;
}

async function readResponse(res: Response): Promise<ApiResponse> {
  const text = await res.text();
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {
    // txt format or redirect
  }
  return { status: res.status, body, text, headers: res.headers };
}

export async function uploadFile(
  baseUrl: string,
  file: Buffer,
  filename: string,
  fields: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) if (k !== '__field') form.append(k, v);
  form.append(fields.__field ?? 'source', new Blob([new Uint8Array(file)]), filename);
  return readResponse(await fetch(`${baseUrl}/api/1/upload`, { method: 'POST', body: form, headers, redirect: 'manual' }));
}

export async function postForm(
  baseUrl: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
  path = '/api/1/upload',
): Promise<ApiResponse> {
  return readResponse(await fetch(`${baseUrl}${path}`, { method: 'POST', body: new URLSearchParams(fields), headers, redirect: 'manual' }));
}
