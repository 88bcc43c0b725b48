"""nianbao: nianbao."""
