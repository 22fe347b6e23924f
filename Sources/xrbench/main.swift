print("xrbench")
