int pn_placeholder(void){return 0;}
