"""What the hotline keeps about people, and removing one person's number on request."""
