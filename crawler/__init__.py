"""nianbao: crawler."""
