"""Models of the clients app."""
