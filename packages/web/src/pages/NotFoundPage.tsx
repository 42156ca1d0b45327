import { Link } from 'react-router';
import { EmptyState } from '../components/States.js';

/** Any path the app does not know. */
export function NotFoundPage() {
  return (
    <div className="page">
      <EmptyState title="There is no page here" icon="?" action={<Link to="/runs">Go to the runs</Link>}>
        The address does not match any page of Galley.
      </EmptyState>
    </div>
  );
}
