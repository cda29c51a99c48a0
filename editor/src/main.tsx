// first: before any schema parses, so zod never tries `new Function` under the page's policy
import '@sluice/shared/no-eval';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './components/App';
import { ErrorBoundary } from './components/ErrorBoundary';
import { adoptTokenFromUrl } from './lib/token';
import './styles.css';
import './flows.css';

adoptTokenFromUrl();

const root = document.getElementById('root');
if (!root) throw new Error('the page has no #root element');

createRoot(root).render(
  <StrictMode>
    <ErrorBoundary>
      <App />
    </ErrorBoundary>
  </StrictMode>,
);
