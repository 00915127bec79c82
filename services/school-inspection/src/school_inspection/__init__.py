"""school_inspection"""
