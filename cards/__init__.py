"""Pure functions: a view in, a template-card dict out. Nothing here touches the database or WeCom."""
