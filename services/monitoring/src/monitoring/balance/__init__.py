"""County compulsory-education high-quality balanced development (优质均衡): verdicts and what-ifs."""
