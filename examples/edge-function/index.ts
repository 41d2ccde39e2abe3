// A scheduled Edge Function (Deno) that runs partkeeper's maintenance, for platforms where pg_cron
// is not available. It connects as a role made only for this (see README.md beside this file),
// calls maintain_livechat_partitions() and answers with its JSON status: 200 when healthy,
// 207 with warnings (rows left in DEFAULT, a lock not obtained), 500 on failure.
import postgres from 'https://deno.land/x/postgresjs@v3.4.4/mod.js';

const sql = postgres(Deno.env.get('PARTKEEPER_DATABASE_URL')!, { max: 1, idle_timeout: 5 });

Deno.serve(async (request: Request) => {
  const expected = Deno.env.get('PARTKEEPER_CRON_SECRET');
  if (expected && request.headers.get('authorization') !== `Bearer ${expected}`) {
    return new Response('unauthorized', { status: 401 });
  }
  try {
    const [{ status }] = await sql`select maintain_livechat_partitions() as status`;
    const code = status.status === 'ok' || status.status === 'skipped' ? 200 : 207;
    console.log(JSON.stringify({ partkeeper: status.status, created: status.created.length, warnings: status.warnings }));
    return Response.json(status, { status: code });
  } catch (e) {
    const { code, message, hint } = e as { code?: string; message?: string; hint?: string };
    console.error(JSON.stringify({ partkeeper: 'failed', code, message, hint }));
    return Response.json({ status: 'failed', error: { code, message, hint } }, { status: 500 });
  }
});
