import { expect, test, type Page } from '@playwright/test';
import { expectNoViolations } from './support/axe';
import { makeZip } from './support/zip';

/**
 * Issue 15, dependency environments in the new-run form. The suite's server declares one named
 * environment (RUNBOX_ENVIRONMENTS in playwright.config.ts) and allows no package registry: the
 * form lists the environment with its packages, and shows it, and an uploaded project's own
 * requirements.txt, unavailable with what the operator sets (RUNBOX_PIP_INDEX_URL), as the server
 * says when asked to create such a run.
 */

interface EnvironmentList {
  project: { python: boolean; node: boolean };
  named: { name: string; description: string | null; python: string[] }[];
}

/** What the server declares, checked first: the spec is about this configuration. */
async function serverEnvironments(page: Page): Promise<EnvironmentList> {
  const reply = await page.request.get('/api/trpc/environments.list');
  expect(reply.status()).toBe(200);
  const list = ((await reply.json()) as { result: { data: EnvironmentList } }).result.data;
  expect(
    list,
    'the e2e server is started with RUNBOX_ENVIRONMENTS={"science":{"description":"numpy for number crunching","python":["numpy"]}} and no RUNBOX_PIP_INDEX_URL or RUNBOX_NPM_REGISTRY',
  ).toMatchObject({
    project: { python: false, node: false },
    named: [{ name: 'science', description: 'numpy for number crunching', python: ['numpy'] }],
  });
  return list;
}

function environmentField(page: Page) {
  return page.getByRole('group', { name: 'Environment', exact: true });
}

test('the form lists the server’s named environments with their packages', async ({ page }) => {
  await page.goto('/');
  await serverEnvironments(page);
  await page.getByRole('tab', { name: 'Write a snippet' }).click();
  const field = environmentField(page);
  await expect(field).toBeVisible();
  await expect(field.getByRole('radio', { name: 'None' })).toBeChecked();
  const science = field.getByRole('radio', { name: 'science' });
  await expect(science).toBeVisible();
  // A snippet has no manifests: a project's own is not offered.
  await expect(field.getByRole('radio', { name: /Project's own/ })).toHaveCount(0);
  const item = field.locator('[data-environment="science"]');
  await expect(item).toContainText('numpy for number crunching');
  await expect(item).toContainText('Python: numpy');
  // Its packages need a Python index, and this server allows none.
  await expect(science).toBeDisabled();
  await expect(item.getByTestId('environment-unavailable')).toContainText('RUNBOX_PIP_INDEX_URL');
  await expectNoViolations(page, 'home, snippet, environments');

  // An example's tool run is offered the named environments too.
  await page.getByRole('tab', { name: 'Example' }).click();
  await expect(environmentField(page).getByRole('radio', { name: 'science' })).toBeVisible();
  await expect(environmentField(page).getByRole('radio', { name: /Project's own/ })).toHaveCount(0);
});

test('a project’s own requirements.txt, with no registry allowed, is refused naming RUNBOX_PIP_INDEX_URL', async ({
  page,
}, testInfo) => {
  await page.goto('/');
  await serverEnvironments(page);
  await page.getByRole('tab', { name: 'Upload a project' }).click();
  const uploaded = page.waitForResponse((response) =>
    response.url().endsWith('/api/trpc/projects.upload'),
  );
  await page.getByLabel('Archive to upload').setInputFiles({
    name: 'needs-numpy.zip',
    mimeType: 'application/zip',
    buffer: makeZip([
      { name: 'requirements.txt', content: 'numpy\n' },
      { name: 'main.py', content: 'import numpy\nprint(numpy.__version__)\n' },
    ]),
  });
  const upload = (await (await uploaded).json()) as { result: { data: { id: string } } };
  await expect(page.getByRole('status').filter({ hasText: 'Uploaded' })).toContainText(
    'Uploaded needs-numpy.zip: 2 files',
  );

  const field = environmentField(page);
  const own = field.getByRole('radio', { name: /Project's own/ });
  await expect(own).toBeVisible();
  await expect(own).toBeDisabled();
  const item = field.locator('[data-environment="project"]');
  await expect(item).toContainText('pip installs requirements.txt');
  await expect(item.getByTestId('environment-unavailable')).toContainText(
    'the operator sets RUNBOX_PIP_INDEX_URL',
  );
  // None stays picked: the run can go on without one.
  await expect(field.getByRole('radio', { name: 'None' })).toBeChecked();
  await expect(page.getByRole('button', { name: /^Run/ })).toBeEnabled();
  await field.screenshot({ path: testInfo.outputPath('environment-field.png') });

  // The form's word is the server's: asked anyway, runs.create refuses with the same variable.
  const refused = await page.request.post('/api/trpc/runs.create', {
    headers: { 'content-type': 'application/json' },
    data: JSON.stringify({
      kind: 'tool',
      toolId: 'python',
      projectId: upload.result.data.id,
      environment: 'project',
    }),
  });
  expect(refused.status()).toBe(400);
  const error = (await refused.json()) as {
    error: { message: string; data: { runbox?: { code: string } } };
  };
  expect(error.error.data.runbox?.code).toBe('ENVIRONMENT_REFUSED');
  expect(error.error.message).toContain('RUNBOX_PIP_INDEX_URL');
});
