echo '"default"'
